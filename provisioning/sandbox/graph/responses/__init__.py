"""Microsoft Graph v1.0's wire format, one module per entity (``urls.py`` maps paths to them):

* ``api.py``                  the way in (token, path, routing) and out (Graph's headers, errors)
* ``base.py``                 the caller, the request, OData collections and entities, owners
* ``applications.py``         applications, password credentials, federated credentials, owners
* ``service_principals.py``   service principals and their owners
* ``app_role_assignments.py`` ``appRoleAssignedTo`` / ``appRoleAssignments``
* ``directory.py``            the organization, ``directoryObjects/getByIds``
* ``sites.py``                SharePoint sites and their ``permissions``
* ``batch.py``                JSON batching
"""
