// No-op Lambda@Edge handler (Node) on viewer-request.
exports.handler = async (e) => e.Records[0].cf.request;
