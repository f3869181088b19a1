# pfSense with the REST API package (pfSense-pkg-RESTAPI, "pfrest"), API v2:
# quarantine by address through a host alias that a block rule references
# (e.g. "cordon_quarantine").  Contract, from the package's documentation
# (docs/COMMON_CONTROL_PARAMETERS.md, QUERIES_FILTERS_AND_SORTING.md,
# AUTHENTICATION_AND_AUTHORIZATION.md) and its models (FirewallAlias,
# FirewallApply):
#   GET   /api/v2/firewall/aliases?name=ALIAS  200 {"data":[{"id","name",
#         "address":[...]}]}   (plural endpoint, exact-match query)
#   PATCH /api/v2/firewall/alias {"id":N,"address":[IP],"append":true}
#         appends to the array field, leaving the other addresses alone;
#         "remove":true takes out only the given value.  Nothing is live
#         until applied:
#   POST  /api/v2/firewall/apply  200 {"data":{"applied":false,
#         "pending_subsystems":["aliases"]}}  (async: applies in background;
#         503 DISPATCHER_TOO_MANY_QUEUED_PROCESSES when applies pile up)
#   GET   /api/v2/firewall/apply  -> "applied": true once the filter reloaded
# Every answer is {"code","status","response_id","message","data"}.
# Auth: the API key in the X-API-Key header (secret_file).
name = "pfsense";
description = "pfSense REST API v2: quarantine alias + apply";
host = "ip";
auth = { type = "header"; name = "X-API-Key"; };
vars = { alias = "cordon_quarantine"; };
retry = { statuses = [ 429, 502, 503, 504 ]; max_attempts = 5;
	backoff = 0.5; max_wait = 30.0; header = "Retry-After"; form = "auto"; };

state = (
	{ method = "GET";
	  url = "${base_url|raw}/api/v2/firewall/aliases?name=${alias|url}";
	  status = [ 200 ];
	  success = [ "$.data[0].name == \"${alias|json}\"" ]; }
);
isolated = "$.data[0].address[*] == \"${host|json}\"";

isolate = (
	{ comment = "name -> id of the alias";
	  method = "GET";
	  url = "${base_url|raw}/api/v2/firewall/aliases?name=${alias|url}";
	  status = [ 200 ];
	  success = [ "$.data[0].name == \"${alias|json}\"",
		"$.data[0].id >= 0" ];
	  capture = { alias_id = "$.data[0].id"; }; },
	{ method = "PATCH";
	  url = "${base_url|raw}/api/v2/firewall/alias";
	  body = "{\"id\":${alias_id|json},\"address\":[\"${host|json}\"],\"append\":true}";
	  status = [ 200 ];
	  success = [ "$.data.address[*] == \"${host|json}\"" ]; },
	{ method = "POST";
	  url = "${base_url|raw}/api/v2/firewall/apply";
	  idempotent = true;	# applying twice applies the same
	  body = "{}";
	  status = [ 200 ];
	  success = [ "$.code == 200" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/api/v2/firewall/apply";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.data.applied == true" ]; }; }
);
release = (
	{ comment = "name -> id of the alias";
	  method = "GET";
	  url = "${base_url|raw}/api/v2/firewall/aliases?name=${alias|url}";
	  status = [ 200 ];
	  success = [ "$.data[0].name == \"${alias|json}\"",
		"$.data[0].id >= 0" ];
	  capture = { alias_id = "$.data[0].id"; }; },
	{ method = "PATCH";
	  url = "${base_url|raw}/api/v2/firewall/alias";
	  body = "{\"id\":${alias_id|json},\"address\":[\"${host|json}\"],\"remove\":true}";
	  status = [ 200 ];
	  success = [ "$.code == 200" ]; },
	{ method = "POST";
	  url = "${base_url|raw}/api/v2/firewall/apply";
	  idempotent = true;	# applying twice applies the same
	  body = "{}";
	  status = [ 200 ];
	  success = [ "$.code == 200" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/api/v2/firewall/apply";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.data.applied == true" ]; }; }
);
