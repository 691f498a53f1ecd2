// Package config reads counterdesk's one configuration file.
//
// The file is TOML. Every key has a default (see [Default]), so a file only
// needs the keys a shop wants to change, and no file at all is a valid
// configuration. The documented example file, with every key at its default,
// is returned by [Example]; the check-config command prints it.
//
// [Load] reads the file, applies overrides from environment variables named
// COUNTERDESK_<SECTION>_<KEY> (for example COUNTERDESK_HTTP_LISTEN) and
// validates the result. Every problem it finds is reported at once, in a
// [*Problems] error that names the line of the file each one comes from.
//
// Other packages take the plain structs of this package (or their own structs
// filled from them); only this package knows the file format.
package config
