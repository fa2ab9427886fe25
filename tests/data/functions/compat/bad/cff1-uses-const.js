// cloudfront-js-1.0 does not support const and let (runtime 2.0 does): refused at load.
function handler(event) {
    const request = event.request;
    let uri = request.uri;
    request.uri = uri.toLowerCase();
    return request;
}
