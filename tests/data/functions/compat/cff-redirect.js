// CloudFront Functions, cloudfront-js-2.0, viewer-request: a generated redirect response
// (aws-samples amazon-cloudfront-functions, redirect-based-on-path shape), keeping the query.
function handler(event) {
    const request = event.request;
    const host = request.headers.host ? request.headers.host.value : 'localhost';
    const rest = request.uri.substring('/old-blog/'.length);
    const query = Object.keys(request.querystring)
        .map((k) => `${k}=${request.querystring[k].value}`).join('&');
    const newurl = `http://${host}/blog/${rest}${query ? '?' + query : ''}`;

    const response = {
        statusCode: 301,
        statusDescription: 'Moved Permanently',
        headers: { 'location': { 'value': newurl } },
    };
    return response;
}
