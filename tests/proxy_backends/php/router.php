<?php
// A PHP app that keeps its state in PHP's own cookie session (PHPSESSID): a three-step form,
// a login, and a JSON counter for scripts. Run by tests/proxy_backends with `php -S`.
session_start();
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'];
function other_origin() {
    $u = parse_url(getenv('AWAY_URL') ?: 'https://other.example/help');
    return $u['scheme'] . '://' . $u['host'] . (isset($u['port']) ? ':' . $u['port'] : '');
}
function h($s) { return htmlspecialchars((string) $s, ENT_QUOTES); }
function page($title, $body) {
    $away = getenv('AWAY_URL') ?: 'https://other.example/help';
    header('Content-Type: text/html; charset=utf-8');
    echo "<!DOCTYPE html><html><head><title>" . h($title) . "</title></head><body><h1>" . h($title) . "</h1>$body"
        . "<p><a href=\"" . h($away) . "\" id=\"away\">help elsewhere</a></p></body></html>";
}

if ($path === '/' && $method === 'GET') {
    page('Step 1', '<form method="post" action="/step1"><input id="name" name="name"><button id="next">Next</button></form>');
} elseif ($path === '/step1' && $method === 'POST') {
    $_SESSION['name'] = $_POST['name'] ?? '';
    header('Location: /step2', true, 303);
} elseif ($path === '/step2' && $method === 'GET') {
    if (!isset($_SESSION['name'])) { http_response_code(409); page('Session lost', ''); return; }
    page('Hello, ' . $_SESSION['name'],
        '<form method="post" action="step2"><input id="colour" name="colour"><button id="next">Next</button></form>');
} elseif ($path === '/step2' && $method === 'POST') {
    $_SESSION['colour'] = $_POST['colour'] ?? '';
    header('Location: summary', true, 303);
} elseif ($path === '/summary') {
    page('Thank you', '<p id="answers">' . h(($_SESSION['name'] ?? '?') . ' likes ' . ($_SESSION['colour'] ?? '?')) . '</p>');
} elseif ($path === '/login' && $method === 'GET') {
    page('Log in', '<form method="post" action="/login"><input id="user" name="user"><input id="password" name="password" type="password"><button id="go">Log in</button></form>');
} elseif ($path === '/login' && $method === 'POST') {
    if (($_POST['password'] ?? '') !== 'secret') { http_response_code(403); page('Wrong password', ''); return; }
    session_regenerate_id(true);
    $_SESSION['user'] = $_POST['user'];
    header('Location: /account', true, 303);
} elseif ($path === '/account') {
    if (!isset($_SESSION['user'])) { http_response_code(403); page('Please log in', ''); return; }
    page('Welcome, ' . $_SESSION['user'], '<p id="sid">' . h(session_id()) . '</p>');
} elseif ($path === '/api/count') {
    $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
    header('Content-Type: application/json');
    echo json_encode(['count' => $_SESSION['count']]);
} elseif ($path === '/ajax') {
    $_SESSION['ajax'] = true;
    page('Scripts', '<button id="fetch" onclick="fetch(\'/api/count\').then(r => r.json()).then(j => document.getElementById(\'out\').textContent += \'f\' + j.count + \' \')">fetch</button>'
        . '<button id="xhr" onclick="var x = new XMLHttpRequest(); x.open(\'GET\', \'/api/count\'); x.onload = function () { document.getElementById(\'out\').textContent += \'x\' + JSON.parse(x.responseText).count + \' \'; }; x.send();">xhr</button>'
        . '<button id="cross" onclick="var done = function () { document.getElementById(\'out\').textContent += \'c \'; }; fetch(\'' . h(other_origin()) . '/script-fetch\').then(done, done)">another origin</button>'
        . '<p id="out"></p>');
} elseif ($path === '/seen') {
    // What PHP made of the request: its form fields, uploads, raw body, Referer, and whether
    // the proxy opened this visitor's jar (PHP's cookie came back).
    header('Content-Type: application/json');
    echo json_encode([
        'post' => (object) $_POST,
        'files' => array_keys($_FILES),
        'raw' => file_get_contents('php://input'),
        'referer' => $_SERVER['HTTP_REFERER'] ?? null,
        'jar' => isset($_COOKIE[session_name()]),
    ]);
} else {
    http_response_code(404);
    page('Not found', '');
}
