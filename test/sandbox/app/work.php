<?php
/*
 * CPU work for the alarm tests: burns CPU for about `ms` milliseconds of wall
 * time (1-2000, default 80), then answers which node did it. No PHP session:
 * like an API call, each request is balanced on its own.
 */
require_once __DIR__ . "/lib.php";

$raw = isset($_GET["ms"]) ? (string) $_GET["ms"] : "80";
if (!preg_match('/^[0-9]{1,4}$/', $raw) || (int) $raw < 1 || (int) $raw > 2000) {
    pas_json(400, array("error" => "ms must be a whole number of milliseconds from 1 to 2000, got '" . substr($raw, 0, 20) . "'"));
}
$ms = (int) $raw;
$start = microtime(true);
$deadline = $start + $ms / 1000.0;
$rounds = 0;
$x = 0.0;
// Bounded: at most 2 s of wall time, whatever the machine's load.
while (microtime(true) < $deadline) {
    for ($i = 1; $i <= 2000; $i++) {
        $x += sqrt($i * ($rounds + 1));
    }
    $rounds++;
}
pas_json(200, array(
    "node"   => pas_instance_id(),
    "ms"     => $ms,
    "rounds" => $rounds,
    "tookMs" => (int) round((microtime(true) - $start) * 1000),
    "check"  => $x > 0,
));
