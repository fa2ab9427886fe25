'use strict';
// Wrong: X-Cache is a disallowed header; edge functions may not add it.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers['x-cache'] = [{key: 'X-Cache', value: 'Hit from cloudfront'}];
    return request;
};
