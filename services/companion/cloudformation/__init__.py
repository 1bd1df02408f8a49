"""CloudFormation in the companion: Lambda's resource types and custom resources served by
Tarn (models, lambda_resources, custom_resources, cfn_response), and the engine gaps deploy
tools hit, fixed in moto's (change_sets, operations, rollbacks, sam)."""
