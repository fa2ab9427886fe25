'use strict';
// Lambda@Edge origin-response, CommonJS, callback style answering from a timer: several
// Set-Cookie lines in one header entry (one array element per line), and a header written
// without `key` (CloudFront derives it: cache-control -> Cache-Control).
exports.handler = (event, context, callback) => {
    const response = event.Records[0].cf.response;
    setTimeout(() => {
        response.headers['set-cookie'] = [
            {key: 'Set-Cookie', value: 'session=abc123; Path=/; HttpOnly'},
            {key: 'Set-Cookie', value: 'theme=dark; Path=/'},
        ];
        response.headers['cache-control'] = [{value: 'no-store'}];
        callback(null, response);
    }, 10);
};
