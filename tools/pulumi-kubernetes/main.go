// The pulumi-kubernetes provider plugin, built from its Go module. The module's own main embeds
// schema files that its repository generates and does not commit (cmd/pulumi-resource-kubernetes:
// `go generate` writes schema-embed.json from schema.json), so it does not compile from the module
// proxy. This main is the same three lines; tools/build.sh writes the embedded files from the
// module's schema.json and terraform-mapping.json before it builds.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
