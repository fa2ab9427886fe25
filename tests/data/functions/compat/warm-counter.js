'use strict';
// Lambda@Edge viewer-request, CommonJS, async style: module state outlives one invocation
// (a warm instance); the count and the instance's start time go to the origin as headers.
let invocations = 0;
const coldStartAt = new Date().toISOString();

exports.handler = async (event) => {
    invocations += 1;
    const request = event.Records[0].cf.request;
    request.headers['x-invocation-count'] = [{key: 'X-Invocation-Count', value: String(invocations)}];
    request.headers['x-cold-start-at'] = [{key: 'X-Cold-Start-At', value: coldStartAt}];
    return request;
};
