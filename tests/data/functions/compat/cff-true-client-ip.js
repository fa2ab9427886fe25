// CloudFront Functions, cloudfront-js-2.0 (inferred), viewer-request: add a True-Client-IP
// header with the viewer's address (aws-samples amazon-cloudfront-functions,
// add-true-client-ip-header).
function handler(event) {
    var request = event.request;
    var clientIP = event.viewer.ip;

    //Add the true-client-ip header to the incoming request
    request.headers['true-client-ip'] = {value: clientIP};

    return request;
}
