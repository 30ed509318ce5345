#!/usr/bin/perl
# Verifies the DKIM signatures of the message on stdin with Mail::DKIM,
# looking keys up through the DNS server given as "host port". Prints one
# line per signature: its result ("pass", "fail", ...).
use strict;
use warnings;
use Net::DNS::Resolver;
use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;

my ($host, $port) = @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(
	nameservers => [$host], port => $port, recurse => 1, retry => 1, udp_timeout => 2));
my $dkim = Mail::DKIM::Verifier->new();
binmode STDIN;
while (<STDIN>) {
	s/\015?\012/\015\012/;
	$dkim->PRINT($_);
}
$dkim->CLOSE;
foreach my $sig ($dkim->signatures) {
	print $sig->result, "\n";
}
