'use strict';
// Lambda@Edge viewer-response, CommonJS, the old context.succeed() style (Node.js 4.3 era
// handlers): adds a Server-Timing header to every response.
exports.handler = function (event, context) {
    var response = event.Records[0].cf.response;
    response.headers['server-timing'] = [{key: 'Server-Timing', value: 'edge;desc="' + context.functionName + '"'}];
    context.succeed(response);
};
