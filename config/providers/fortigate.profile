# FortiGate (FortiOS REST API, monitor API "user/banned", the quarantine
# list behind Monitor > Quarantine Monitor; FortiOS REST API reference,
# Monitor API: user/banned/select, add_users, clear_users):
#   POST /api/v2/monitor/user/banned/add_users?vdom=V
#        {"ip_addresses":["IP"],"expiry":SECONDS}   (expiry 0: until lifted)
#   POST /api/v2/monitor/user/banned/clear_users?vdom=V
#        {"ip_addresses":["IP"]}                    (only the given address)
#   GET  /api/v2/monitor/user/banned/select?vdom=V
#        {"results":[{"ip_address","created","expires","source"}],
#         "status":"success","http_status":200,...}
# Answers carry "status":"success"|"error" next to the HTTP status.
# Auth: REST API admin token, "Authorization: Bearer <token>" (secret_file).
name = "fortigate";
description = "FortiGate quarantine (user/banned) by address";
host = "ip";
auth = { type = "bearer"; };
vars = { vdom = "root"; expiry = "0"; };
retry = { statuses = [ 429, 500, 502, 503 ]; max_attempts = 4;
	backoff = 0.5; max_wait = 30.0; header = "Retry-After"; form = "delta"; };

state = (
	{ method = "GET";
	  url = "${base_url|raw}/api/v2/monitor/user/banned/select?vdom=${vdom|url}";
	  status = [ 200 ];
	  success = [ "$.status == \"success\"", "$.results" ]; }
);
isolated = "$.results[*].ip_address == \"${host|json}\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/api/v2/monitor/user/banned/add_users?vdom=${vdom|url}";
	  idempotent = true;	# the ban list is a set
	  body = "{\"ip_addresses\":[\"${host|json}\"],\"expiry\":${expiry|json}}";
	  status = [ 200 ];
	  success = [ "$.status == \"success\"" ]; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}/api/v2/monitor/user/banned/clear_users?vdom=${vdom|url}";
	  idempotent = true;	# the ban list is a set
	  body = "{\"ip_addresses\":[\"${host|json}\"]}";
	  status = [ 200 ];
	  success = [ "$.status == \"success\"" ]; }
);
