// The work of rewrite.js in njs, for nginx (nginx-njs.conf). One call per request: $edge_uri
// (read first, by proxy_pass) computes the uri and stores the query and the two header values
// in js_var variables that proxy_pass and proxy_set_header read after it.
function uri(r) {
  var args = r.args;
  var value = args.lang !== undefined ? String(args.lang).toLowerCase() : 'en';
  var query = [];
  var raw = r.variables.args || '';
  if (raw) {
    raw.split('&').forEach(function (kv) {
      query.push(kv.substring(0, 5) === 'lang=' ? 'lang=' + encodeURIComponent(value) : kv);
    });
  }
  r.variables.edge_args = query.join('&');
  r.variables.edge_lang = value;
  var ua = r.headersIn['User-Agent'] || '';
  r.variables.edge_device = ua.indexOf('Mobile') >= 0 ? 'mobile' : 'desktop';
  return '/v2' + r.uri;
}
export default { uri };
