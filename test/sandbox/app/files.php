<?php
/*
 * Write (PUT/POST: the request body) or read (GET) one file of a repository:
 *   files.php?repo=default&path=dir/name.txt
 *   files.php?repo=my-files&user=alice&path=name.txt
 * Answers JSON with the file's sha256; GET with raw=1 returns the bytes.
 */
require_once __DIR__ . "/lib.php";

$slug = isset($_GET["repo"]) ? (string) $_GET["repo"] : "default";
$user = isset($_GET["user"]) ? (string) $_GET["user"] : "";
$rel = isset($_GET["path"]) ? (string) $_GET["path"] : "";
if (!preg_match('#^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$#', $rel) || preg_match('#(^|/)\.\.?(/|$)#', $rel)) {
    pas_json(400, array("error" => "invalid 'path' parameter (relative, no '..', [A-Za-z0-9._-/])"));
}
$root = pas_repository_root($slug, $user);
$file = $root . "/" . $rel;

switch ($_SERVER["REQUEST_METHOD"]) {
    case "PUT":
    case "POST":
        $body = file_get_contents("php://input");
        if (!is_dir(dirname($file)) && !@mkdir(dirname($file), 0770, true) && !is_dir(dirname($file))) {
            pas_json(500, array("error" => "cannot create directory " . dirname($file)));
        }
        if (file_put_contents($file, $body) === false) {
            pas_json(500, array("error" => "cannot write $file"));
        }
        pas_json(200, array("node" => pas_instance_id(), "path" => $file, "size" => strlen($body),
            "sha256" => hash("sha256", $body)));
        break;
    case "GET":
        if (!is_file($file)) {
            pas_json(404, array("error" => "no such file", "path" => $file, "node" => pas_instance_id()));
        }
        $body = file_get_contents($file);
        if (!empty($_GET["raw"])) {
            header("Content-Type: application/octet-stream");
            header("X-Pydio-Node: " . pas_instance_id());
            header("X-Content-Sha256: " . hash("sha256", $body));
            echo $body;
            exit;
        }
        pas_json(200, array("node" => pas_instance_id(), "path" => $file, "size" => strlen($body),
            "sha256" => hash("sha256", $body)));
        break;
    default:
        header("Allow: GET, PUT, POST");
        pas_json(405, array("error" => "method not allowed"));
}
