// One user-assigned managed identity of the home tenant (used by home.bicep, once per identity,
// in the identity's own resource group). The resource group must exist already, as it must for
// `xtenant apply`.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region. It cannot change later: a new location means a new identity, a new principal id, and new federated credentials and role assignments.')
param location string

@description('Tags; home.bicep adds managed-by: xtenant.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('ARM id of the identity (what a host lists in identity.userAssignedIdentities).')
output resourceId string = identity.id

@description('Client id: what a workload on the host asks IMDS for (client_id=...).')
output clientId string = identity.properties.clientId

@description('Principal (object) id: the subject of the federated credentials.')
output principalId string = identity.properties.principalId
