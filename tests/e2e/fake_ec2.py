"""A fake of the EC2 Query API (Version 2016-11-15) for security groups, on loopback.

It keeps groups in memory and answers the five actions `edgeguard ipranges --backend ec2`
uses -- DescribeSecurityGroups (tag, vpc-id and group-name filters, NextToken pages),
CreateSecurityGroup (with TagSpecification), CreateTags, AuthorizeSecurityGroupIngress,
RevokeSecurityGroupIngress -- with the XML shapes of AWS's EC2 API reference (element names
as in botocore's EC2 service model: securityGroupInfo/item, ipPermissions/item,
ipRanges/item/cidrIp, tagSet/item/key...), and errors as
<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.

Every request must carry a SigV4 signature that botocore computes identically for the
configured credentials (service ec2); otherwise 403 SignatureDoesNotMatch / 401 AuthFailure.
It enforces the per-group quota (rules_per_group IPv4 and as many IPv6 ingress rules) like
EC2 does (RulesPerSecurityGroupLimitExceeded), refuses duplicate rules
(InvalidPermission.Duplicate) and revoking absent ones (InvalidPermission.NotFound).
test_ipranges_ec2.py checks the fake itself with boto3 so that it stays honest.
"""
from __future__ import annotations

import http.server
import threading
import uuid
from typing import Optional
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
OWNER = "123456789012"


class Ec2Error(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Group:
    def __init__(self, gid: str, name: str, description: str, vpc: str, tags: dict):
        self.id, self.name, self.description, self.vpc = gid, name, description, vpc
        self.tags = dict(tags)
        # (protocol, from, to, cidr) -> description
        self.ingress: dict = {}
        self.egress = {("-1", None, None, "0.0.0.0/0"): None}

    def count(self, v6: bool) -> int:
        return sum(1 for r in self.ingress if (":" in r[3]) == v6)


def _permissions(params: dict) -> list:
    """IpPermissions.N.* -> [(protocol, from, to, cidr, description)]."""
    out = []
    n = 1
    while f"IpPermissions.{n}.IpProtocol" in params:
        base = f"IpPermissions.{n}."
        proto = params[base + "IpProtocol"]
        if proto in ("6", "TCP"):
            proto = "tcp"
        frm = params.get(base + "FromPort")
        to = params.get(base + "ToPort")
        if proto != "-1" and (frm is None or to is None):
            raise Ec2Error("InvalidParameterValue", "FromPort and ToPort are required for tcp")
        frm = int(frm) if frm is not None and proto != "-1" else None
        to = int(to) if to is not None and proto != "-1" else None
        for kind, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            m = 1
            while f"{base}{kind}.{m}.{field}" in params:
                cidr = params[f"{base}{kind}.{m}.{field}"]
                if (field == "CidrIpv6") != (":" in cidr):
                    raise Ec2Error("InvalidParameterValue", f"CIDR block {cidr} is malformed")
                out.append((proto, frm, to, cidr, params.get(f"{base}{kind}.{m}.Description")))
                m += 1
        n += 1
    if not out:
        raise Ec2Error("MissingParameter", "No IpPermissions with IP ranges were given")
    return out


def _tags_xml(tags: dict) -> str:
    return "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
                   for k, v in sorted(tags.items()))


def _perms_xml(rules: dict) -> str:
    by_ports: dict = {}
    for (proto, frm, to, cidr), desc in sorted(rules.items(), key=lambda kv: str(kv[0])):
        by_ports.setdefault((proto, frm, to), []).append((cidr, desc))
    out = []
    for (proto, frm, to), cidrs in by_ports.items():
        ports = "" if frm is None else f"<fromPort>{frm}</fromPort><toPort>{to}</toPort>"
        v4 = "".join(f"<item><cidrIp>{c}</cidrIp>" + (f"<description>{escape(d)}</description>" if d else "")
                     + "</item>" for c, d in cidrs if ":" not in c)
        v6 = "".join(f"<item><cidrIpv6>{c}</cidrIpv6>" + (f"<description>{escape(d)}</description>" if d else "")
                     + "</item>" for c, d in cidrs if ":" in c)
        out.append(f"<item><ipProtocol>{proto}</ipProtocol>{ports}<groups/>"
                   f"<ipRanges>{v4}</ipRanges><ipv6Ranges>{v6}</ipv6Ranges><prefixListIds/></item>")
    return "".join(out)


class FakeEc2:
    def __init__(self, access_key: str, secret_key: str, region: str = "us-east-1",
                 rules_per_group: int = 60, page_size: int = 2):
        self.credentials = Credentials(access_key, secret_key)
        self.region = region
        self.rules_per_group = rules_per_group
        self.page_size = page_size
        self.groups: dict[str, Group] = {}
        self.calls: list[str] = []
        self.failures: list = []   # [(action, code, status)] injected, one use each
        self.lock = threading.Lock()
        self._next = 1
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length)
                status, xml = fake.handle(self.command, self.path, self.headers, body)
                data = xml.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, action: str, code: str, status: int = 503):
        self.failures.append((action, code, status))

    def mutating_calls(self) -> list:
        return [c for c in self.calls if not c.startswith("Describe")]

    # ---- the protocol -------------------------------------------------------------------

    def _verify(self, method: str, path: str, headers, body: bytes):
        auth = headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, term = fields["Credential"].split("/")
        if akid != self.credentials.access_key:
            raise Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
        if service != "ec2" or region != self.region or term != "aws4_request":
            raise Ec2Error("SignatureDoesNotMatch", f"Credential should be scoped to a valid region and service ec2, not {region}/{service}", 403)
        signed = fields["SignedHeaders"].split(";")
        for required in ("host", "x-amz-date"):
            if required not in signed:
                raise Ec2Error("SignatureDoesNotMatch", f"{required} is not signed", 403)
        request = AWSRequest(method=method, url=f"http://{headers['Host']}{path}", data=body,
                             headers={n: ",".join(headers.get_all(n)) for n in signed})
        request.context["timestamp"] = headers["X-Amz-Date"]
        signer = SigV4Auth(self.credentials, "ec2", self.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != fields["Signature"]:
            raise Ec2Error("SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided.", 403)

    def handle(self, method: str, path: str, headers, body: bytes) -> tuple:
        request_id = str(uuid.uuid4())
        try:
            if method != "POST":
                raise Ec2Error("InvalidAction", "The EC2 Query API takes POST here")
            ctype = headers.get("Content-Type", "")
            if not ctype.startswith("application/x-www-form-urlencoded"):
                raise Ec2Error("InvalidParameterValue", f"unexpected Content-Type {ctype!r}")
            self._verify(method, path, headers, body)
            params = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
            action = params.get("Action", "")
            if params.get("Version") != "2016-11-15":
                raise Ec2Error("InvalidParameterValue", f"unsupported Version {params.get('Version')!r}")
            with self.lock:
                self.calls.append(action)
                for i, (a, code, status) in enumerate(self.failures):
                    if a == action:
                        del self.failures[i]
                        raise Ec2Error(code, "injected failure", status)
                handler = getattr(self, "_" + action, None)
                if handler is None:
                    raise Ec2Error("InvalidAction", f"The action {action} is not valid for this web service.")
                inner = handler(params)
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">'
                   f"<requestId>{request_id}</requestId>{inner}</{action}Response>")
            return 200, xml
        except Ec2Error as e:
            xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                   f"<Code>{escape(e.code)}</Code><Message>{escape(e.message)}</Message>"
                   f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
            return e.status, xml

    # ---- actions (called with the lock held) ----------------------------------------------

    def _group(self, params: dict) -> Group:
        gid = params.get("GroupId")
        if gid not in self.groups:
            raise Ec2Error("InvalidGroup.NotFound", f"The security group '{gid}' does not exist")
        return self.groups[gid]

    def _DescribeSecurityGroups(self, params: dict) -> str:
        groups = sorted(self.groups.values(), key=lambda g: g.id)
        n = 1
        while f"Filter.{n}.Name" in params:
            name = params[f"Filter.{n}.Name"]
            values = []
            m = 1
            while f"Filter.{n}.Value.{m}" in params:
                values.append(params[f"Filter.{n}.Value.{m}"])
                m += 1
            if name.startswith("tag:"):
                key = name[4:]
                groups = [g for g in groups if g.tags.get(key) in values]
            elif name == "tag-key":
                groups = [g for g in groups if any(k in g.tags for k in values)]
            elif name == "vpc-id":
                groups = [g for g in groups if g.vpc in values]
            elif name == "group-name":
                groups = [g for g in groups if g.name in values]
            else:
                raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
            n += 1
        ids = [params[k] for k in sorted(params) if k.startswith("GroupId.")]
        if ids:
            groups = [g for g in groups if g.id in ids]
        start = int(params.get("NextToken", "0") or 0)
        page = groups[start:start + self.page_size]
        more = start + self.page_size < len(groups)
        items = "".join(
            f"<item><ownerId>{OWNER}</ownerId><groupId>{g.id}</groupId><groupName>{escape(g.name)}</groupName>"
            f"<groupDescription>{escape(g.description)}</groupDescription><vpcId>{g.vpc}</vpcId>"
            f"<securityGroupArn>arn:aws:ec2:{self.region}:{OWNER}:security-group/{g.id}</securityGroupArn>"
            f"<ipPermissions>{_perms_xml(g.ingress)}</ipPermissions>"
            f"<ipPermissionsEgress>{_perms_xml(g.egress)}</ipPermissionsEgress>"
            f"<tagSet>{_tags_xml(g.tags)}</tagSet></item>" for g in page)
        token = f"<nextToken>{start + self.page_size}</nextToken>" if more else ""
        return f"<securityGroupInfo>{items}</securityGroupInfo>{token}"

    def _tag_specifications(self, params: dict) -> dict:
        tags = {}
        n = 1
        while f"TagSpecification.{n}.ResourceType" in params:
            if params[f"TagSpecification.{n}.ResourceType"] != "security-group":
                raise Ec2Error("InvalidParameterValue", "tags must be for a security-group")
            m = 1
            while f"TagSpecification.{n}.Tag.{m}.Key" in params:
                tags[params[f"TagSpecification.{n}.Tag.{m}.Key"]] = params.get(f"TagSpecification.{n}.Tag.{m}.Value", "")
                m += 1
            n += 1
        return tags

    def add_group(self, name: str, description: str = "made outside edgeguard", vpc: str = "vpc-1a2b3c4d",
                  tags: Optional[dict] = None) -> Group:
        with self.lock:
            gid = f"sg-{self._next:017x}"
            self._next += 1
            g = Group(gid, name, description, vpc, tags or {})
            self.groups[gid] = g
            return g

    def _CreateSecurityGroup(self, params: dict) -> str:
        name = params.get("GroupName")
        description = params.get("GroupDescription")
        if not name or not description:
            raise Ec2Error("MissingParameter", "GroupName and GroupDescription are required")
        if name.startswith("sg-"):
            raise Ec2Error("InvalidParameterValue", "Group names may not be in the format sg-*")
        vpc = params.get("VpcId", "vpc-1a2b3c4d")
        if any(g.name == name and g.vpc == vpc for g in self.groups.values()):
            raise Ec2Error("InvalidGroup.Duplicate", f"The security group '{name}' already exists for VPC '{vpc}'")
        gid = f"sg-{self._next:017x}"
        self._next += 1
        g = Group(gid, name, description, vpc, self._tag_specifications(params))
        self.groups[gid] = g
        return f"<return>true</return><groupId>{gid}</groupId><tagSet>{_tags_xml(g.tags)}</tagSet>"

    def _CreateTags(self, params: dict) -> str:
        ids = [params[k] for k in sorted(params) if k.startswith("ResourceId.")]
        tags = {}
        m = 1
        while f"Tag.{m}.Key" in params:
            tags[params[f"Tag.{m}.Key"]] = params.get(f"Tag.{m}.Value", "")
            m += 1
        for gid in ids:
            if gid not in self.groups:
                raise Ec2Error("InvalidID", f"The ID '{gid}' is not valid")
        for gid in ids:
            self.groups[gid].tags.update(tags)
        return "<return>true</return>"

    def _AuthorizeSecurityGroupIngress(self, params: dict) -> str:
        g = self._group(params)
        rules = _permissions(params)
        for proto, frm, to, cidr, _ in rules:
            if (proto, frm, to, cidr) in g.ingress:
                raise Ec2Error("InvalidPermission.Duplicate",
                               f'the specified rule "peer: {cidr}, {proto.upper()}, from port: {frm}, '
                               f'to port: {to}, ALLOW" already exists')
        for v6 in (False, True):
            adding = len({r[:4] for r in rules if (":" in r[3]) == v6})
            if g.count(v6) + adding > self.rules_per_group:
                raise Ec2Error("RulesPerSecurityGroupLimitExceeded",
                               "The maximum number of rules per security group has been reached.")
        items = []
        for proto, frm, to, cidr, desc in rules:
            g.ingress[(proto, frm, to, cidr)] = desc
            field = "cidrIpv6" if ":" in cidr else "cidrIpv4"
            ports = "" if frm is None else f"<fromPort>{frm}</fromPort><toPort>{to}</toPort>"
            items.append(f"<item><securityGroupRuleId>sgr-{uuid.uuid4().hex[:17]}</securityGroupRuleId>"
                         f"<groupId>{g.id}</groupId><groupOwnerId>{OWNER}</groupOwnerId>"
                         f"<isEgress>false</isEgress><ipProtocol>{proto}</ipProtocol>{ports}"
                         f"<{field}>{cidr}</{field}></item>")
        return f"<return>true</return><securityGroupRuleSet>{''.join(items)}</securityGroupRuleSet>"

    def _RevokeSecurityGroupIngress(self, params: dict) -> str:
        g = self._group(params)
        rules = _permissions(params)
        for proto, frm, to, cidr, _ in rules:
            if (proto, frm, to, cidr) not in g.ingress:
                raise Ec2Error("InvalidPermission.NotFound",
                               "The specified rule does not exist in this security group.")
        for proto, frm, to, cidr, _ in rules:
            del g.ingress[(proto, frm, to, cidr)]
        return "<return>true</return>"

    # ---- views for tests ----------------------------------------------------------------

    def tagged(self, name: str) -> list:
        with self.lock:
            return sorted((g for g in self.groups.values() if g.tags.get("edgeguard:ipranges") == name),
                          key=lambda g: (g.tags.get("edgeguard:set", ""), int(g.tags.get("edgeguard:index", "0"))))

    def cidrs(self, name: str) -> set:
        return {(r[0], r[1], r[2], r[3]) for g in self.tagged(name) for r in g.ingress}
