'use strict';
// Wrong: a Lambda@Edge header is an array of {key, value}, not a flat string.
exports.handler = (event, context, callback) => {
    const response = event.Records[0].cf.response;
    response.headers['x-frame-options'] = 'DENY';
    callback(null, response);
};
