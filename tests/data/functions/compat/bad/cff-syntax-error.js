// A CloudFront Function with a syntax error on line 4.
function handler(event) {
    var request = event.request;
    request.uri = '/a' +;
    return request;
}
