'use strict';
// Lambda@Edge origin-response, CommonJS, callback style: replace an origin error by a
// friendly page with status 200 (AWS example "Using an origin-response trigger to update the
// error status code to 200").
exports.handler = (event, context, callback) => {
    const response = event.Records[0].cf.response;

    /**
     * This function updates the response status to 200 and generates static
     * body content to return to the viewer in the following scenario:
     * 1. The function is triggered in an origin response
     * 2. The response status from the origin server is an error status code (4xx or 5xx)
     */
    if (response.status >= 400 && response.status <= 599) {
        response.headers['x-original-status'] = [{key: 'X-Original-Status', value: response.status}];
        response.status = 200;
        response.statusDescription = 'OK';
        response.body = 'Body generation example';
        response.headers['content-type'] = [{key: 'Content-Type', value: 'text/plain'}];
    }

    callback(null, response);
};
