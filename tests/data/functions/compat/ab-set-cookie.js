// CloudFront Functions, cloudfront-js-2.0, viewer-response: remember the A/B group chosen at
// viewer-request (ab-testing.js) in a cookie, so the viewer keeps its group.
async function handler(event) {
    const request = event.request;
    const response = event.response;
    if (!request.cookies['X-Experiment-Name']) {
        const group = request.uri.indexOf('control') >= 0 ? 'A' : 'B';
        response.cookies['X-Experiment-Name'] = {value: group, attributes: 'Path=/; Max-Age=86400'};
    }
    return response;
}
