# Palo Alto Networks PAN-OS: quarantine by tagging the address for a
# dynamic address group (DAG) that a deny rule references (match criteria
# e.g. 'cordon-quarantine').  Contract: PAN-OS XML API, "Apply User-ID
# Mapping and Populate Dynamic Address Groups (API)" and "Run Operational
# Mode Commands (API)":
#   POST /api/  type=user-id  cmd=<uid-message><version>2.0</version>
#        <type>update</type><payload><register|unregister><entry ip="IP">
#        <tag><member timeout="S">TAG</member></tag></entry>...
#        </uid-message>                 (form fields, x-www-form-urlencoded)
#   POST /api/  type=op  cmd=<show><object><registered-ip><ip>IP</ip>
#        </registered-ip></object></show>      (the tags an address holds)
# Answers are XML: <response status="success"> or <response status="error"
# code="N"><msg>...</msg></response>; registering a tag the address already
# holds answers an error whose entry says "already exists, ignore", and
# unregistering one it lacks "does not exist, ignore": both mean the state
# is as wanted.  Values in the uid-message are XML-escaped, then the whole
# field is form-encoded.  Auth: the API key in the X-PAN-KEY header.
name = "panos";
description = "PAN-OS User-ID tag register/unregister for a DAG";
host = "ip";
auth = { type = "header"; name = "X-PAN-KEY"; };
vars = { tag = "cordon-quarantine"; vsys = "vsys1"; timeout = "0"; };
retry = { statuses = [ 429, 502, 503, 504 ]; max_attempts = 4;
	backoff = 0.5; max_wait = 30.0; header = "Retry-After"; form = "auto"; };

state = (
	{ method = "POST";
	  url = "${base_url|raw}/api/";
	  idempotent = true;	# a read; or a repeat the device ignores
	  form = { type = "op";
		cmd = "<show><object><registered-ip><ip>${host|xml}</ip></registered-ip></object></show>"; };
	  status = [ 200 ];
	  success = [ "body ~ \"<response status=\\\"success\\\"\"" ]; }
);
isolated = "body ~ \"<member[^>]*>${tag|xml|re|json}</member>\"";

isolate = (
	{ method = "POST";
	  url = "${base_url|raw}/api/";
	  idempotent = true;	# a read; or a repeat the device ignores
	  form = { type = "user-id"; vsys = "${vsys|xml}";
		cmd = "<uid-message><version>2.0</version><type>update</type><payload><register><entry ip=\"${host|xml}\"><tag><member timeout=\"${timeout|xml}\">${tag|xml}</member></tag></entry></register></payload></uid-message>"; };
	  status = [ 200 ];
	  success = [ "body ~ \"<response status=\\\"success\\\"|already exists, ignore\"" ]; }
);
release = (
	{ method = "POST";
	  url = "${base_url|raw}/api/";
	  idempotent = true;	# a read; or a repeat the device ignores
	  form = { type = "user-id"; vsys = "${vsys|xml}";
		cmd = "<uid-message><version>2.0</version><type>update</type><payload><unregister><entry ip=\"${host|xml}\"><tag><member>${tag|xml}</member></tag></entry></unregister></payload></uid-message>"; };
	  status = [ 200 ];
	  success = [ "body ~ \"<response status=\\\"success\\\"|does not exist, ignore\"" ]; }
);
