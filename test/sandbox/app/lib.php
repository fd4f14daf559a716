<?php
/* Shared helpers of the sandbox stand-in app (not part of Pydio). */
require_once __DIR__ . "/conf/bootstrap_context.php";

/*
 * Pydio 8's bootstrap (pydio/pydio-core core/src/conf/bootstrap_context.php):
 * session.cookie_httponly on, then conf/bootstrap_conf.php's $AJXP_INISET applied
 * with ini_set, which beats php.ini (e.g. the session.save_path configure-app.sh sets).
 */
ini_set("session.cookie_httponly", "1");
if (is_file(__DIR__ . "/conf/bootstrap_conf.php")) {
    include __DIR__ . "/conf/bootstrap_conf.php";
    if (isset($AJXP_INISET)) {
        foreach ($AJXP_INISET as $key => $value) {
            ini_set($key, $value);
        }
    }
}

/*
 * Pydio 8's session cookie, as pydio/pydio-core
 * core/src/core/src/pydio/Core/Services/SessionService.php defines it
 * (`define('PYDIO_SESSION_NAME', 'AjaXplorer')`, then `session_name(...)` and
 * `session_start()` with PHP's own save handler unless AJXP_SESSION_HANDLER_PATH
 * names another). The settings UI uses `Pydio_Settings` and public links
 * `AjaXplorer_Shared<hash>` (same file and plugins/action.share); neither is
 * what a load balancer should stick on.
 */
define("PYDIO_SESSION_NAME", "AjaXplorer");

/** Opens the PHP session the way Pydio's SessionService::handleRequest does. */
function pas_session_start()
{
    session_name(PYDIO_SESSION_NAME);
    session_start();
}

/*
 * Pydio 8's first run (pydio/pydio-core core/src/core/src/pydio/Core/Services/ApplicationState.php,
 * detectApplicationFirstRun): the install wizard is on while neither AJXP_CACHE_DIR/first_run_passed
 * (node-local here: configure-app.sh touches it on every node but the first, as
 * dist/scripts/glusterfs/pydio-gluster.sh does) nor AJXP_DATA_PATH/plugins/boot.conf/first_run_passed
 * (written when the wizard completes, ApplicationState::setApplicationFirstRunPassed) exists. While it
 * is on, nobody can log in (plugins/authfront.session_login/SessionLoginFrontend.php: isEnabled() is
 * false on first run) and the web UI is the installer.
 */
function pas_first_run()
{
    return !file_exists(AJXP_CACHE_DIR . "/first_run_passed")
        && !file_exists(AJXP_DATA_PATH . "/plugins/boot.conf/first_run_passed");
}

function pas_instance_id()
{
    $env = getenv("PYDIO_INSTANCE_ID");
    if ($env !== false && $env !== "") {
        return $env;
    }
    $file = "/etc/pydio-instance-id";
    if (is_readable($file)) {
        $id = trim((string) file_get_contents($file));
        if ($id !== "") {
            return $id;
        }
    }
    return gethostname();
}

function pas_json($status, $body)
{
    http_response_code($status);
    header("Content-Type: application/json");
    header("X-Pydio-Node: " . pas_instance_id());
    echo json_encode($body, JSON_UNESCAPED_SLASHES), "\n";
    exit;
}

/** The filesystem root of a repository, resolved like Pydio's fs driver. */
function pas_repository_root($slug, $user)
{
    $REPOSITORIES = array();
    require __DIR__ . "/conf/bootstrap_repositories.php";
    foreach ($REPOSITORIES as $repo) {
        if ($repo["AJXP_SLUG"] !== $slug) {
            continue;
        }
        $path = str_replace("AJXP_DATA_PATH", AJXP_DATA_PATH, $repo["DRIVER_OPTIONS"]["PATH"]);
        if (strpos($path, "AJXP_USER") !== false) {
            if (!preg_match('/^[A-Za-z0-9._-]{1,64}$/', $user)) {
                pas_json(400, array("error" => "repository '$slug' needs a valid 'user' parameter"));
            }
            $path = str_replace("AJXP_USER", $user, $path);
        }
        return $path;
    }
    pas_json(404, array("error" => "unknown repository '$slug'"));
}
