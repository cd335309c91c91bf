"""ARM's wire format, one module per resource provider (``urls.py`` maps paths to them):

* ``base.py``          what every call goes through: api-version, token, subscription, RBAC,
                       ARM's headers
* ``tenant.py``        cloud metadata, tenants, subscriptions list, providers, locations
* ``resources.py``     the subscription, resource groups, resources of any type
* ``authorization.py`` role definitions and role assignments
* ``msi.py``           the system-assigned identity of a resource
* ``operations.py``    long-running operation status
"""
