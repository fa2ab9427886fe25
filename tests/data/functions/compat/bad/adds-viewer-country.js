'use strict';
// Wrong: CloudFront-Viewer-Country may not be added by a viewer-request function.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers['cloudfront-viewer-country'] = [{key: 'CloudFront-Viewer-Country', value: 'US'}];
    return request;
};
