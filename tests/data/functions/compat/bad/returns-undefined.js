'use strict';
// Wrong: forgets to return the request.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers['x-touched'] = [{key: 'X-Touched', value: 'yes'}];
};
