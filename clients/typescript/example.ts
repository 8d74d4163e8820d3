// A plugin author's first calls, typed by the generated schema.d.ts: `tsc` fails when the
// served document no longer matches what this code expects.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Product = components["schemas"]["StorefrontProduct"];
type Problem = components["schemas"]["Problem"];

export async function showProduct(baseUrl: string, key: string, sku: string): Promise<string> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
  const { data, error, response } = await client.GET("/v1/storefront/products/{sku}", {
    params: { path: { sku }, query: { locale: "de-DE" } },
  });
  if (response.status === 304) return "unchanged";
  if (error) {
    const problem: Problem = error;
    return `${problem.code}: ${problem.detail}`;
  }
  const product: Product = data;
  return `${product.title.value} (${product.locale})`;
}

export async function createProduct(baseUrl: string, key: string): Promise<number> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
  const { response } = await client.PUT("/v1/products/{sku}", {
    params: { path: { sku: "LAMP-1" } },
    body: { title: "Desk lamp", price: "19.90", currency: "EUR" },
  });
  return response.status; // 201 created, 200 replaced
}
