// No-op CloudFront Function (2.0: a bare handler) on viewer-request.
function handler(event) { return event.request; }
