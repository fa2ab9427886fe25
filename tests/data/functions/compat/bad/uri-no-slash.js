'use strict';
// Wrong: a uri must start with '/'.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.uri = 'index.html';
    return request;
};
