// The shape of the IAM policy documents this project writes (trust and permission policies), as
// plain data: builders return it, the roles serialise it, verify/iam-policy.ts evaluates it.

/** Condition block: operator -> condition key -> value(s). */
export type IamCondition = Record<string, Record<string, string | string[]>>;

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Readonly<Partial<Record<"AWS" | "Federated" | "Service", string | string[]>>>;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: IamCondition;
}

export interface IamPolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: IamStatement[];
}
