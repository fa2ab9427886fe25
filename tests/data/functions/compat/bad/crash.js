'use strict';
// The worker process exits in the middle of an invocation when asked to (503).
let served = 0;
exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    served += 1;
    if (request.querystring.includes('crash')) {
        process.exit(1);
    }
    request.headers['x-served-by-this-instance'] = [{key: 'X-Served-By-This-Instance', value: String(served)}];
    callback(null, request);
};
