// xtenant: the home side of the secret-less cross-tenant identity chain, for teams that
// deploy with Bicep. It declares what `xtenant apply` manages in the home tenant:
//
//   user-assigned managed identity (one per entry of `identities`, in its own resource group)
//     └─ federated identity credential `mi-<identity>` on a multi-tenant app registration
//        (issuer = the home tenant, subject = the identity's principal id, audience = the
//        cloud's token-exchange audience), one app per entry of `apps`
//
// Parameters: `xtenant bicep params -c xtenant.yaml --out home.parameters.json` renders them
// from the same configuration `xtenant apply` reads. Deploy at subscription scope, signed in
// to the home tenant:
//
//   az deployment sub create --location westus2 --template-file bicep/home.bicep \
//     --parameters @home.parameters.json
//
// Needs Bicep CLI 0.36.1 or later and the Microsoft Graph extension (bicepconfig.json beside
// this file maps the alias `microsoftGraphV1` to its v1.0 types). The deploying principal
// needs Managed Identity Contributor on the identities' resource groups (which must exist) and
// rights to create applications in Entra ID (e.g. Application Developer, or
// Application.ReadWrite.OwnedBy for an app-only deployment).
//
// NOT HERE: attaching the identities to their hosts (`attach_to`). Bicep can only change a
// VM's (or Automation account's) identity block by declaring the whole host resource again,
// which would overwrite every other setting of a VM this template does not own, and replace
// its identity list instead of merging with it. Attach with `xtenant apply` (it merges with the
// host's system-assigned and other user-assigned identities), or per VM with the az CLI, which
// also merges:
//
//   az vm identity assign --ids <VM resource id> --identities <identityIds[n].resourceId>
//
// See README.md beside this file.

targetScope = 'subscription'

extension microsoftGraphV1

// -------------------------------------------------------------------------------------
// Types
// -------------------------------------------------------------------------------------

@description('A user-assigned managed identity (home.identities[] in xtenant.yaml).')
type identitySpec = {
  @description('Identity name, unique in its resource group.')
  name: string

  @description('Resource group of the identity, in the deployment subscription. It must exist.')
  resourceGroup: string

  @description('Azure region, e.g. westus2. It cannot change later: the identity would have to be recreated.')
  location: string

  @description('Extra tags; managed-by: xtenant is always added.')
  tags: { *: string }?
}

@description('A Microsoft Graph application permission (app role) that the app asks for.')
type graphAppRole = {
  @description('App role id (GUID) on Microsoft Graph.')
  id: string

  @description('Its name, e.g. Sites.Selected (for readers; only the id is deployed).')
  value: string?
}

@description('A multi-tenant app registration (home.apps[] in xtenant.yaml).')
type appSpec = {
  @description('Short key of the app in xtenant.yaml.')
  key: string

  @description('Display name, shown to customer admins on the consent page.')
  displayName: string

  @description('Graph alternate key of the application: finds the same app again on every deployment.')
  uniqueName: string

  @description('What the access is for.')
  description: string?

  @description('Where admin consent returns.')
  redirectUris: string[]

  @description('Names of identities (in `identities`) trusted through a federated credential each; at most 20.')
  trusts: string[]

  @description('Microsoft Graph application permissions the app asks for.')
  graphAppRoles: graphAppRole[]

  @description('Also create the app\'s service principal in the home tenant (only needed to grant it home-side roles).')
  servicePrincipal: bool?
}

// -------------------------------------------------------------------------------------
// Parameters
// -------------------------------------------------------------------------------------

@description('Issuer of the managed identities\' tokens: {authority}/{home tenant id}/v2.0.')
param ficIssuer string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

@description('Audience of the managed identities\' tokens used as client assertions (api://AzureADTokenExchange in the public cloud).')
param exchangeAudience string = 'api://AzureADTokenExchange'

@description('The user-assigned managed identities.')
param identities identitySpec[]

@description('The multi-tenant app registrations and the identities each one trusts.')
param apps appSpec[]

// -------------------------------------------------------------------------------------
// Variables
// -------------------------------------------------------------------------------------

// The same markers as `xtenant apply` sets.
var managedByTag = { 'managed-by': 'xtenant' }
var appManagedTag = 'xtenant:managed'
var multiTenant = 'AzureADMultipleOrgs'
var graphAppId = '00000003-0000-0000-c000-000000000000'

var identityNames = map(identities, mi => mi.name)

// One federated credential per (app, trusted identity), named mi-<identity> as by `xtenant apply`.
var ficSpecs = flatten(map(range(0, length(apps)), a => map(apps[a].trusts, t => {
  appIndex: a
  identityIndex: indexOf(identityNames, t)
  identity: t
  name: take('mi-${t}', 120)
})))

// -------------------------------------------------------------------------------------
// Resources
// -------------------------------------------------------------------------------------

// The identities, each in its own resource group (a module: Bicep deploys into another
// resource group only through one).
module identityDeployments 'modules/home-identity.bicep' = [for mi in identities: {
  name: 'xtenant-${take(mi.name, 40)}-${uniqueString(mi.resourceGroup, mi.name)}'
  scope: resourceGroup(mi.resourceGroup)
  params: {
    name: mi.name
    location: mi.location
    tags: union(mi.?tags ?? {}, managedByTag)
  }
}]

// The multi-tenant apps, found again by their uniqueName on every deployment.
resource applications 'Microsoft.Graph/applications@v1.0' = [for app in apps: {
  uniqueName: app.uniqueName
  displayName: app.displayName
  description: app.?description
  signInAudience: multiTenant
  web: {
    redirectUris: app.redirectUris
  }
  requiredResourceAccess: empty(app.graphAppRoles) ? [] : [
    {
      resourceAppId: graphAppId
      resourceAccess: map(app.graphAppRoles, role => {
        id: role.id
        type: 'Role'
      })
    }
  ]
  tags: [
    appManagedTag
  ]
}]

// Each app's federated credentials: the child is named '<app uniqueName>/<credential name>'.
// The subject is the identity's principal (object) id, never its client id.
resource federatedCredentials 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = [for fic in ficSpecs: {
  name: '${applications[fic.appIndex].uniqueName}/${fic.name}'
  description: 'Managed by xtenant: tokens of the managed identity ${fic.identity} may act as this app.'
  issuer: ficIssuer
  subject: identityDeployments[fic.identityIndex].outputs.principalId
  audiences: [
    exchangeAudience
  ]
}]

// The app's service principal in the home tenant, where asked for.
resource servicePrincipals 'Microsoft.Graph/servicePrincipals@v1.0' = [for (app, i) in apps: if (app.?servicePrincipal ?? false) {
  appId: applications[i].appId
}]

// -------------------------------------------------------------------------------------
// Outputs
// -------------------------------------------------------------------------------------

@description('Per identity: its ARM id (for attaching it to hosts), client id (for IMDS) and principal id (the credentials\' subject).')
output identityIds array = [for (mi, i) in identities: {
  name: mi.name
  resourceGroup: mi.resourceGroup
  resourceId: identityDeployments[i].outputs.resourceId
  clientId: identityDeployments[i].outputs.clientId
  principalId: identityDeployments[i].outputs.principalId
}]

@description('Per app: its appId (the client id customers consent to) and object id.')
output appIds array = [for (app, i) in apps: {
  key: app.key
  uniqueName: app.uniqueName
  appId: applications[i].appId
  objectId: applications[i].id
}]

@description('The issuer the federated credentials trust.')
output federatedCredentialIssuer string = ficIssuer

@description('The audience the federated credentials accept.')
output federatedCredentialAudience string = exchangeAudience
