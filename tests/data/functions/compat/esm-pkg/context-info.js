// Lambda@Edge viewer-request, ES module (.js in a "type": "module" package), async style:
// shows the context object's fields to the origin and logs through console.
export const handler = async (event, context) => {
    const request = event.Records[0].cf.request;
    const config = event.Records[0].cf.config;
    console.log(`context-info saw ${request.method} ${request.uri} as request ${context.awsRequestId}`);
    console.warn('a warning from context-info');
    const add = (name, value) => {
        request.headers[name.toLowerCase()] = [{key: name, value: String(value)}];
    };
    add('X-Fn-Name', context.functionName);
    add('X-Fn-Request-Id', context.awsRequestId);
    add('X-Fn-Remaining-Ms', context.getRemainingTimeInMillis());
    add('X-Fn-Memory', context.memoryLimitInMB);
    add('X-Fn-Event-Type', config.eventType);
    add('X-Fn-Config-Request-Id', config.requestId);
    add('X-Fn-Client-Ip', request.clientIp);
    return request;
};
