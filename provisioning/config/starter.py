"""The starter configuration that ``xtenant init`` writes (a test keeps it valid)."""

from __future__ import annotations


def starter_yaml() -> str:
    """A commented configuration that validates as is, for ``xtenant init``."""
    return _STARTER


_STARTER = """\
# xtenant configuration. Check it with `xtenant validate`; `xtenant schema` prints the
# JSON Schema for editors. Any string may use ${ENV_VAR} (write $${ for a literal "${").
cloud: public                      # public | usgov | china | path/to/cloud.json

home:                              # the tenant where the workload and the app live
  tenant_id: 00000000-0000-0000-0000-000000000001        # placeholder: your tenant id
  subscription_id: 00000000-0000-0000-0000-000000000002  # placeholder: where identities go
  identities:                      # managed identities (user-assigned, or a host's own)
    - name: umi-workload
      resource_group: rg-identity
      location: westus2
      attach_to:                   # ARM ids of the hosts: VMs, scale sets, App Service /
        # Functions apps and slots, Container Apps, Automation accounts
        - /subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-workload
    # A host's own system-assigned identity (Arc-enabled servers have only this kind);
    # Microsoft documents user-assigned identities as the supported kind, `validate` warns:
    # - name: arc-onprem
    #   system_assigned_of: /subscriptions/.../providers/Microsoft.HybridCompute/machines/<name>
  apps:                            # multi-tenant app registrations
    - key: main
      display_name: Contoso Workload
      unique_name: contoso-workload   # Graph alternate key: finds the app again on re-runs
      redirect_uri: https://contoso.example/onboarded
      trusts: [umi-workload]          # one federated credential per identity
      description: Sends our workload's telemetry to your Azure Monitor.
      graph_app_roles: []             # e.g. [Sites.Selected]

customers:                         # or customers_dir: customers (one file per customer)
  - name: example
    tenant: example.onmicrosoft.com   # tenant GUID or verified domain
    app: main
    roles:                          # asked of the customer's admin; least privilege
      - role: Monitoring Metrics Publisher
        scope: /subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionRules/dcr-example
        why: send logs to the example DCR
    # probe:                        # optional: what `xtenant verify --probe` calls
    #   logs_ingestion:
    #     endpoint: https://dce-example.westus2-1.ingest.monitor.azure.com
    #     dcr_immutable_id: dcr-00000000000000000000000000000000
    #     stream: Custom-example_CL

# offboard: [old-customer]         # a customer no longer declared is offboarded only if listed
"""
