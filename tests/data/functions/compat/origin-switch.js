'use strict';
// Lambda@Edge origin-request, CommonJS, callback style: send the request to an S3 origin
// when the query string asks for it (AWS example "Using an origin-request trigger to change
// from a custom origin to an Amazon S3 origin"), or to another custom origin on a given port
// ("change the origin domain name").
const querystring = require('querystring');

exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;

    /**
     * Reads query string to check if S3 origin should be used, and
     * if true, sets S3 origin properties.
     */
    const params = querystring.parse(request.querystring);

    if (params['useS3Origin']) {
        if (params['useS3Origin'] === 'true') {
            const s3DomainName = 'site.s3.amazonaws.com';

            /* Set S3 origin fields */
            request.origin = {
                s3: {
                    domainName: s3DomainName,
                    region: '',
                    authMethod: 'none',
                    path: '',
                    customHeaders: {}
                }
            };
            request.headers['host'] = [{ key: 'host', value: s3DomainName}];
        }
    } else if (params['originPort']) {
        request.origin = {
            custom: {
                domainName: 'localhost',
                port: Number(params['originPort']),
                protocol: 'http',
                path: '',
                sslProtocols: ['TLSv1.2'],
                readTimeout: 30,
                keepaliveTimeout: 5,
                customHeaders: {
                    'x-switched-by': [{key: 'X-Switched-By', value: 'origin-switch.js'}]
                }
            }
        };
        request.headers['host'] = [{ key: 'host', value: 'localhost'}];
    }
    callback(null, request);
};
