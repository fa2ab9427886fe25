'use strict';
// Wrong: Host is read-only in viewer-request.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers.host = [{key: 'Host', value: 'other.example.com'}];
    return request;
};
