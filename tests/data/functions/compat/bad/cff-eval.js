// CloudFront Functions do not allow eval.
function handler(event) {
    var request = event.request;
    var code = 'request.uri = "/evaluated"';
    eval(code);
    return request;
}
