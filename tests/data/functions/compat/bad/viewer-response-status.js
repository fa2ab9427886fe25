'use strict';
// Wrong: a viewer-response function may not change the status.
exports.handler = async (event) => {
    const response = event.Records[0].cf.response;
    response.status = '201';
    response.statusDescription = 'Created';
    return response;
};
