# CrowdStrike Falcon: network containment of a host by its device id (aid).
# OAuth2 client credentials (key_file = client id, secret_file = secret)
# against /oauth2/token; POST /devices/entities/devices-actions/v2 with
# action_name=contain|lift_containment answers 202, and the device's status
# moves normal -> containment_pending -> contained (and back through
# lift_containment_pending).  Rate limits: 429 with X-RateLimit-RetryAfter
# as an absolute epoch.
name = "crowdstrike";
description = "CrowdStrike Falcon host containment";
host = "id";
auth = { type = "oauth2_client_credentials";
	token_url = "${base_url|raw}/oauth2/token"; };
retry = { statuses = [ 429, 500, 502, 503 ]; max_attempts = 4;
	backoff = 0.5; max_wait = 30.0; header = "X-RateLimit-RetryAfter";
	form = "epoch"; };

state = (
	{ method = "GET";
	  url = "${base_url|raw}/devices/entities/devices/v2?ids=${host|url}";
	  status = [ 200 ];
	  success = [ "$.resources[0].status" ]; }
);
isolated = "$.resources[0].status == \"contained\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/devices/entities/devices-actions/v2?action_name=contain";
	  idempotent = true;	# containing a contained host changes nothing
	  body = "{\"ids\":[\"${host|json}\"]}";
	  status = [ 202 ];
	  success = [ "$.resources[0].id == \"${host|json}\"" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/devices/entities/devices/v2?ids=${host|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.resources[0].status == \"contained\"" ];
		fail = [ "$.resources[0].status == \"normal\"" ]; }; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}/devices/entities/devices-actions/v2?action_name=lift_containment";
	  idempotent = true;	# lifting twice changes nothing
	  body = "{\"ids\":[\"${host|json}\"]}";
	  status = [ 202 ];
	  success = [ "$.resources[0].id == \"${host|json}\"" ];
	  poll = { method = "GET";
		url = "${base_url|raw}/devices/entities/devices/v2?ids=${host|url}";
		status = [ 200 ];
		interval = 0.5; deadline = 60.0;
		done = [ "$.resources[0].status == \"normal\"" ];
		fail = [ "$.resources[0].status == \"contained\"" ]; }; }
);
