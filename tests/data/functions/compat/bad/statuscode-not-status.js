'use strict';
// Wrong: a Lambda@Edge generated response uses `status`, not `statusCode` (API Gateway style).
exports.handler = async () => ({
    statusCode: 403,
    headers: {'content-type': [{key: 'Content-Type', value: 'text/plain'}]},
    body: 'Forbidden',
});
