// Wrong: a CloudFront Functions response uses `statusCode` (a number), not `status`.
function handler(event) {
    return {
        status: 302,
        statusDescription: 'Found',
        headers: { location: { value: 'https://example.com/' } },
    };
}
