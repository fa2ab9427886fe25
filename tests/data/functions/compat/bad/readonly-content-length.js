'use strict';
// Wrong: Content-Length is read-only in origin-request.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers['content-length'] = [{key: 'Content-Length', value: '12345'}];
    return request;
};
