<?php
/* Shared helpers of the sandbox stand-in app (not part of Pydio). */
require_once __DIR__ . "/conf/bootstrap_context.php";

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
