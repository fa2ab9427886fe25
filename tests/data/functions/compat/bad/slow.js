'use strict';
// Runs past its timeout (timeout: 1 in the config) when asked to (503).
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    if (request.querystring.includes('slow')) {
        await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    return request;
};
