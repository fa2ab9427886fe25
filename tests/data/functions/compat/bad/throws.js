'use strict';
// An unhandled exception (500).
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    if (request.querystring.includes('boom')) {
        throw new TypeError('cannot read the session cookie');
    }
    return request;
};
