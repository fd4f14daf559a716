<?php
/* Which node answered, and the sticky session as that node sees it. */
require_once __DIR__ . "/lib.php";

pas_session_start();
if (pas_first_run()) {
    // The installer, not the app: no login, so no session of a user to count (lib.php, pas_first_run).
    pas_json(200, array(
        "node"          => pas_instance_id(),
        "installWizard" => true,
        "session"       => session_name(),
        "dataPath"      => AJXP_DATA_PATH,
    ));
}
$_SESSION["count"] = isset($_SESSION["count"]) ? $_SESSION["count"] + 1 : 1;
pas_json(200, array(
    "node"      => pas_instance_id(),
    "hostname"  => gethostname(),
    "sessionId" => session_id(),
    "count"     => $_SESSION["count"],
    "session"   => session_name(),
    "dataPath"  => AJXP_DATA_PATH,
));
