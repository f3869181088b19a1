# Generic webhook: POST a JSON event to an endpoint that isolates the host
# (a SOAR, a NAC, an in-house script).  Bearer token from secret_file.
# There is no read-back: verify records that it could not prove anything.
name = "webhook";
description = "generic JSON webhook";
host = "id";
auth = { type = "bearer"; };
vars = { path = "/cordon/isolation"; };
retry = { statuses = [ 429, 502, 503, 504 ]; max_attempts = 3;
	backoff = 0.5; max_wait = 30.0; };

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}${path|raw}";
	  body = "{\"action\":\"isolate\",\"host\":\"${host|json}\",\"reason\":\"${reason|json}\",\"incident\":\"${incident|json}\",\"cordon_action\":\"${action|json}\"}";
	  status = [ 200, 201, 202, 204 ]; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}${path|raw}";
	  body = "{\"action\":\"release\",\"host\":\"${host|json}\",\"reason\":\"${reason|json}\",\"incident\":\"${incident|json}\",\"cordon_action\":\"${action|json}\"}";
	  status = [ 200, 201, 202, 204 ]; }
);
