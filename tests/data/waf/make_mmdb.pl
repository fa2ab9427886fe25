#!/usr/bin/env perl
# Writes the small MaxMind DB files the geo unit tests read, into the directory given as the
# only argument:
#   country.mmdb      GeoLite2-City layout, IPv6 tree holding IPv4 and IPv6 networks
#   asn.mmdb          GeoLite2-ASN layout, IPv6 tree
#   location-v4.mmdb  an IPv4-only tree whose database_type names neither Country nor City,
#                     so the reader must recognise it by its records
# Needs MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl). Exits 2 when it is missing so
# the tests can tell "cannot build" from "built wrong".
use strict;
use warnings;

BEGIN {
    unless ( eval { require MaxMind::DB::Writer::Tree; 1 } ) {
        print STDERR "make_mmdb.pl: MaxMind::DB::Writer::Tree is not installed "
            . "(Debian package libmaxmind-db-writer-perl)\n";
        exit 2;
    }
}

my $dir = shift @ARGV or die "usage: make_mmdb.pl OUTPUT_DIR\n";
-d $dir or die "make_mmdb.pl: $dir is not a directory\n";

my %types = (
    country                        => 'map',
    registered_country             => 'map',
    subdivisions                   => [ 'array', 'map' ],
    iso_code                       => 'utf8_string',
    geoname_id                     => 'uint32',
    names                          => 'map',
    en                             => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub new_tree {
    my (%args) = @_;
    return MaxMind::DB::Writer::Tree->new(
        languages             => ['en'],
        description           => { en => "edgeguard test data: $args{database_type}" },
        map_key_type_callback => sub { $types{ $_[0] } },

        # The test networks are documentation ranges (RFC 5737, RFC 3849), which the writer
        # drops by default.
        remove_reserved_networks => 0,

        # No ::ffff:0:0/96 alias: IPv4 data then lives only at ::a.b.c.d (where IPv4 notation
        # inserts it), so only a reader that walks there, as libmaxminddb does for AF_INET,
        # finds it. Real GeoLite2 files alias; a correct reader finds IPv4 either way.
        alias_ipv6_to_ipv4 => 0,
        %args,
    );
}

sub write_file {
    my ( $tree, $name ) = @_;
    open my $fh, '>:raw', "$dir/$name" or die "make_mmdb.pl: cannot write $dir/$name: $!\n";
    $tree->write_tree($fh);
    close $fh or die "make_mmdb.pl: cannot write $dir/$name: $!\n";
}

sub place {
    my ( $iso, $name ) = @_;
    return { iso_code => $iso, names => { en => $name } };
}

my $city = new_tree(
    ip_version    => 6,
    record_size   => 28,
    database_type => 'GeoLite2-City',
);
$city->insert_network( '192.0.2.0/24',
    { country => place( 'US', 'United States' ), registered_country => place( 'US', 'United States' ),
      subdivisions => [ place( 'WA', 'Washington' ) ] } );
$city->insert_network( '198.51.100.0/24',
    { country => place( 'DE', 'Germany' ), registered_country => place( 'DE', 'Germany' ),
      subdivisions => [ place( 'BE', 'Berlin' ), place( 'XY', 'not the first' ) ] } );
$city->insert_network( '2001:db8:1::/48',
    { country => place( 'JP', 'Japan' ), registered_country => place( 'JP', 'Japan' ) } );
# Like MaxMind's anycast and satellite ranges: only the registrant's country is known.
$city->insert_network( '203.0.113.0/24', { registered_country => place( 'FR', 'France' ) } );
write_file( $city, 'country.mmdb' );

my $asn = new_tree(
    ip_version    => 6,
    record_size   => 24,
    database_type => 'GeoLite2-ASN',
);
$asn->insert_network( '192.0.2.0/24',
    { autonomous_system_number => 64500, autonomous_system_organization => 'Example Net A' } );
$asn->insert_network( '2001:db8:1::/48',
    { autonomous_system_number => 64501, autonomous_system_organization => 'Example Net B' } );
write_file( $asn, 'asn.mmdb' );

my $location = new_tree(
    ip_version    => 4,
    record_size   => 24,
    database_type => 'Example-Location',
);
$location->insert_network( '192.0.2.0/24', { country => place( 'CA', 'Canada' ) } );
write_file( $location, 'location-v4.mmdb' );
