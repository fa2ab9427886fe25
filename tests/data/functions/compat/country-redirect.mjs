// Lambda@Edge origin-request, ES module (.mjs), async style: redirect the viewer to a
// country-specific site from CloudFront-Viewer-Country (AWS example "Redirect viewer to a
// country-specific URL"; the header exists at origin-request, not at viewer-request).
export const handler = async (event) => {
    const request = event.Records[0].cf.request;

    /*
     * Based on the value of the CloudFront-Viewer-Country header, generate an
     * HTTP status code 302 (Redirect) response, and return a country-specific
     * URL in the Location header.
     */
    let url = 'https://example.com/';
    if (request.headers['cloudfront-viewer-country']) {
        const countryCode = request.headers['cloudfront-viewer-country'][0].value;
        if (countryCode === 'TW') {
            url = 'https://tw.example.com/';
        } else if (countryCode === 'US') {
            url = 'https://us.example.com/';
        }
    }

    const response = {
        status: '302',
        statusDescription: 'Found',
        headers: {
            location: [{
                key: 'Location',
                value: url,
            }],
        },
    };
    return response;
};
