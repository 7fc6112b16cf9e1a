// Runs in every jest worker before the tests (and is inherited by CLIs the tests spawn):
// only loopback addresses may be targets of test traffic, so the DNS layer refuses any other server.
process.env.SPAMGATE_DNS_LOOPBACK_ONLY = '1';
