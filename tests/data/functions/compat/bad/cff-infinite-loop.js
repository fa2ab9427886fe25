// A CloudFront Function that never ends when asked to (over its compute budget: 503).
function handler(event) {
    var request = event.request;
    if (request.querystring.loop) {
        var n = 0;
        while (true) {
            n++;
        }
    }
    return request;
}
