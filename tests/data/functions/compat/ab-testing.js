// CloudFront Functions, cloudfront-js-1.0 (var only), viewer-request: A/B test by cookie
// (shape of the Lambda@Edge "A/B testing" example, written for CloudFront Functions).
function handler(event) {
    var request = event.request;
    var cookies = request.cookies;

    if (request.uri !== '/experiment-pixel.jpg') {
        // do not process if this is not an A-B test request
        return request;
    }

    var pathExperimentA = '/experiment-group/control-pixel.jpg';
    var pathExperimentB = '/experiment-group/treatment-pixel.jpg';

    var experimentUri;
    if (cookies['X-Experiment-Name']) {
        var group = cookies['X-Experiment-Name'].value;
        if (group === 'A') {
            experimentUri = pathExperimentA;
        } else if (group === 'B') {
            experimentUri = pathExperimentB;
        }
    }

    if (!experimentUri) {
        // When there is no cookie, then randomly decide which app version will be used.
        if (Math.random() < 0.75) {
            experimentUri = pathExperimentA;
        } else {
            experimentUri = pathExperimentB;
        }
    }

    request.uri = experimentUri;
    return request;
}
