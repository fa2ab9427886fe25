// CloudFront Functions (cloudfront-js-2.0, inferred from the bare handler), viewer-request:
// append index.html to URLs without a file name or extension (aws-samples
// amazon-cloudfront-functions, url-rewrite-single-page-apps).
async function handler(event) {
    const request = event.request;
    const uri = request.uri;

    // Check whether the URI is missing a file name.
    if (uri.endsWith('/')) {
        request.uri += 'index.html';
    }
    // Check whether the URI is missing a file extension.
    else if (!uri.includes('.')) {
        request.uri += '/index.html';
    }

    return request;
}
